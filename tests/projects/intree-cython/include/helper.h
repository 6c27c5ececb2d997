double fastsum_weight(long i);

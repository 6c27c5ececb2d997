from ._core import count_primes, fib, rle_length

__all__ = ["count_primes", "fib", "rle_length"]

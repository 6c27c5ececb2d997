from fastsum._speed import weighted_sum

__all__ = ["weighted_sum"]

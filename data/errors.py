class DataError(ValueError):
    """Bad input data. The message names the file, line or row, and the offending value."""

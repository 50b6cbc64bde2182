"""Backends: where generated code runs.  The default is the Python code
itself; ``numba_lower`` and ``numba_backend`` compile it with Numba
(``backend="numba"``)."""

"""The differential fuzzer of s2sad (issue #13).

Random well-typed NumPy programs (``gen``) are differentiated by s2sad and
judged against an independent oracle: the program run as plain Python and
central finite differences with Richardson extrapolation (``oracle``).
``checks`` runs every check on one program and classifies the outcome,
``shrink`` reduces a failing program to a minimal one, ``program`` loads
programs and reads and writes the regression corpus (``corpus/``), and
``runner`` runs batches for the tests and for ``bench/fuzz.py``.
"""

"""Helpers the examples share: the plot backend (or a note without
matplotlib), saving a figure, and the digits (scikit-learn's, or a
digits-like data set for runs without scikit-learn).
Each example imports this module from its own folder, as `python
examples/x.py` puts that folder on the import path."""

import os

import numpy as np


def pyplot_or_note():
    """matplotlib.pyplot on the Agg backend, or None after a one-line note."""
    try:
        import matplotlib
    except ImportError:
        print('matplotlib not installed: skipping the plot (pip install ".[examples]")')
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(plt, fig, out_dir, name, dpi):
    """Write ``fig`` to ``out_dir/name`` (the folder made if missing), close
    it, say where, and return the path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print(f"wrote {os.path.normpath(path)}")
    return path


def digits():
    """(X, y, name): scikit-learn's digits, or synthetic_digits() (with a
    note) without scikit-learn."""
    try:
        import sklearn  # noqa: F401  (first: a blocked sklearn must block an imported sklearn.datasets)
        from sklearn.datasets import load_digits
    except ImportError:
        print("scikit-learn not installed: running on a synthetic digits-like data set instead "
              "(pip install scikit-learn, or \".[examples]\", for the real digits)", flush=True)
        return (*synthetic_digits(), "synthetic digits (no scikit-learn)")
    return (*load_digits(return_X_y=True), "digits")


# 5x7 glyphs of 0-9, for the data set used without scikit-learn
FONT = [
    [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
    ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
    [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
    ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
    ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
    ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
    ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
    ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
    [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
    [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
]


def synthetic_digits(n=1797, seed=0):
    """A stand-in for scikit-learn's digits (same shape and range): 8x8
    images, pixels 0-16, of the glyphs in FONT at a random offset and
    stroke intensity, plus noise.  (X (n, 64), y (n,))."""
    r = np.random.default_rng(seed)
    glyphs = np.array([[[c == "#" for c in row] for row in g] for g in FONT], dtype=float)
    y = r.integers(0, 10, size=n)
    X = np.zeros((n, 8, 8))
    for i in range(n):
        dy, dx = r.integers(0, 2), r.integers(0, 4)
        X[i, dy:dy + 7, dx:dx + 5] = glyphs[y[i]] * r.uniform(8, 16)
    X = X + r.normal(scale=3.0, size=X.shape)
    return np.clip(np.round(X), 0, 16).reshape(n, 64), y

"""Hidden tests, one module per notebook (mirroring `solutions`); each function is one graded cell."""

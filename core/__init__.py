"""The shared kernel every app may import: the clock and the few helpers all rooms use."""

"""Analysis of sweep results: pure functions over result tables."""

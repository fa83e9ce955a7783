"""Charts of a sweep's results: one module per chart, each a pure function from polars frames
to an ``alt.Chart``; ``style`` holds the colours, labels and formats they share."""

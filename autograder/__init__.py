"""CNN internals course: reference solutions, grading engine and CLI."""

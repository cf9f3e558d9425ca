"""The grading engine: runs submissions in a sandbox and compares with the reference."""

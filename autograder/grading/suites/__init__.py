"""Hidden-check suites, one module per lesson; each defines LESSON."""

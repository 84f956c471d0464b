"""summarizer: typed, grounded briefs of documents with an LLM."""

__version__ = "0.1.0"

"""Tagging stage: language, document type, dates, entities and facts."""

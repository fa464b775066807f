"""Segmentation: extracted blocks into a document's sections (`sections`), cut at the
headings found in running text (`headings`, also used by PDF extraction)."""

"""The project's tools that are not tests: tools/bookpdf.py prints the book as a PDF
(`python3 dev.py pdf`)."""

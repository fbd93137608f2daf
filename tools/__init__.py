"""The project's tools that are not tests: tools/bookpdf.py prints the book as a PDF
(`python3 dev.py pdf`), tools/pdfcheck.py reads a printed PDF back for its checks,
tools/mutants.py plants deliberate bugs and runs the tests that must catch them
(`python3 dev.py mutants`)."""

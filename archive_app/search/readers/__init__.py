"""One reader per kind of document, each `(path, max_chars) -> (text, complete)`.

They run in the sandbox child (search/sandbox.py), bounded there in time and memory and here
in pages, cells, parts and characters. Each imports its library with its first file, so that
the child starts quickly and a process that never reads a PDF never loads PDFium.
"""

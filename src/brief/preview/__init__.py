"""`brief preview`: render editions in memory, serve them on 127.0.0.1, reload the browser on every save.

session.py keeps each edition's latest HTML, PDF and errors; printer.py prints PDFs in a child
process; watch.py turns saves into re-renders; pages.py renders the preview's own pages;
server.py serves all of it, and only files inside the pack and the templates.
"""

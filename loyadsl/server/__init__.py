"""The processing server (`loya serve`, docs/server.md): tills send receipts over HTTP, the server
answers with the outcome and books it, exactly once, in a database that holds every customer's state.

``store`` is the one interface to the database (``sqlite`` and ``postgres`` implement it over the
SQL of ``sql``); ``processing`` is what the endpoints do, on the pure engine and its change lists,
free of HTTP; ``app`` is the HTTP layer (Starlette), ``models`` its request and response shapes,
``openapi`` the document made from them. Everything here but ``store``, ``sql``, ``sqlite`` and
``processing`` needs the ``serve`` extra.
"""

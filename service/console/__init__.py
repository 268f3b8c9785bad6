"""The web console: the petition office's and units' pages under ``/console`` and the student's pages under
``/t/{slug}``, server-rendered (Litestar's Jinja templating), calling the same services as the API."""

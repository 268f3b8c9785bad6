"""The console's words by area, each module a ``MESSAGES`` dict (key -> (zh-CN, en)) merged into
``service.console.i18n.MESSAGES``; a key defined twice is refused at import."""

"""Province analytics: the statistics computed from the journal (``statistics``), the pre-aggregated cells
(``cells``) and their fold (``jobs``), and the small-cell disclosure rule (``disclosure``)."""

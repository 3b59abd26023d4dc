"""Mechanic tests and template docs: ``loya test`` and ``loya doc`` (docs/testing.md).

A test file (``*.test.yaml``, next to the programme or template it tests) gives a programme, or a
template with its arguments, a customer, a time and receipts, and what must come out. The modules:
``yamlmap`` reads YAML keeping the line of every value, ``model`` validates a test file (pydantic),
``build`` writes the programme a template test runs, ``match`` compares expected with actual,
``runner`` runs a file's cases, ``report`` renders the results, ``doc`` renders templates as Markdown.
"""

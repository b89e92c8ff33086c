"""The enterprise-scale benchmark: the pipeline beside a plain-DuckDB baseline.

`python -m benchmarks --scale S|M|L` generates an organisation at that scale,
serves its Jira recording from a local HTTP server, runs the pipeline as a
subprocess (extract, land, gates, dbt, publish), runs `baseline.sql` on the
same inputs, checks that both give the same `delivery_weekly` and
`adoption_weekly`, replays a 0.1 % increment, and writes the figures as JSON.
"""

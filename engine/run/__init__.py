"""Run: a `Plan` becomes a `RunRecord`, every attempt recorded over real HTTP. Nothing is judged here.

    executor      execute_plan: the checks against the target, then the drills, in one event loop
    targets       the endpoint for the run (http, the built-in simulator, or a plugin's target kind)
    http          one attempt with httpx: timeouts, the deadline, size caps, no redirects
    sse, stream   the SSE parser and what a streamed answer added up to
    observation   Observation and StreamSummary: what one attempt looked like
    policy        runbook's reference client: retries, backoff, Retry-After, fallback, budget
    drills        the drills through the reference client on the fault server
    client_drills the drills through a client under test (client adapters; one process per call)
    client        the httpx client (reserved .invalid names fail like DNS)
    interrupt     SIGINT/SIGTERM stop a run cleanly

Takes `Plan`; gives `RunRecord` (engine.run.executor).
"""

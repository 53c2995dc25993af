"""Judge: a `RunRecord` becomes verdicts. Each observed outcome is compared with what the spec
expects, each drill with the retry/fallback policy, each acceptance criterion with its evidence,
and the whole is assembled into the results document.

    checks         judge_check, evaluate: contract checks, fixture drift
    drills         the reference client's drills
    client_drills  a client under test's drills, judged from what the simulator saw
    sent           what each fault put on the wire, as an observation
    drift          fixture shapes and how an observed shape differs from the stored one
    criteria       acceptance criteria and the overall verdict
    evidence       body summaries with no content
    assemble       Results from the record and the evaluation
    results        the results document: the output format every report renders

Takes `RunRecord`; gives `Results`.
"""

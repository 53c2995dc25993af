"""Plan: a `LoadedSpec`, a target name, a selection and a client become a `Plan`, the ordered steps
to execute with every request fully resolved (nothing is sent here).

    build    build_plan, Plan, Step, DrillStep, TargetPlan, ClientPlan
    select   --tags / --only / --skip / --schedule

Takes `LoadedSpec`; gives `Plan`.
"""

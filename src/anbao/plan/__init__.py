"""Plan 预案: response plans (trigger → steps), their activations and the tasks they create.

This is the minimal plan table the warning engine needs; the planning issue extends it into the
full "1+N" plan system (master plan, special plans, documents).
"""

"""Moving an endpoint to its declared state: what serves where, in which steps, tagged how.

release.py       TrafficRelease: converge one endpoint, with its safety rules
live.py          the live endpoint as the release reads it
serving_spec.py  what a slot runs besides its model, and its version
rollout.py       mirror and canary steps
stages.py        the registry's stage tags
smoke.py         the scoring smoke test of one deployment
"""

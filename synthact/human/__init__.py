"""People: body models (bodies/) and motions (motions/: the canonical skeleton, the procedural library,
BVH and AMASS importers, retargeting, quality metrics)."""

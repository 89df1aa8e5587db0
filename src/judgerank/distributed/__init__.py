"""Jobs past one process: the same rerank and judge work split over Ray workers.

jobs.py describes a job so that it can be sent to a worker and rebuilt there (a Runtime per
worker, from model and store specs); ray.py runs the tasks on a Ray cluster with Ray Data.
`import judgerank` never imports Ray; the CLI does so only for --ray.
"""

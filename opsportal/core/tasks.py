"""Core Celery tasks: the durable-timer tick. Thin wrappers over services; safe to run twice."""

from celery import shared_task

from opsportal.core import services
from opsportal.core.background import run_in_background


@shared_task(name="opsportal.core.tasks.jobs_run_due")
def jobs_run_due() -> int:
    """Claim due timers and hand each to a worker. Beat runs this every second."""
    ids = services.jobs_claim_due()
    for job_id in ids:
        run_in_background(job_execute, job_id=job_id)
    return len(ids)


@shared_task(name="opsportal.core.tasks.job_execute")
def job_execute(job_id: int) -> bool:
    return services.job_execute(job_id=job_id)


@shared_task(name="opsportal.core.tasks.prune_jobs")
def prune_jobs() -> int:
    """Daily: finished timers older than JOB_RETENTION_DAYS go."""
    return services.jobs_prune()

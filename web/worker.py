"""The Celery worker: a Celery app built from the Flask app, running tasks in its context.

``celery -A web.worker:celery worker`` works (the app is built on first access, not at import),
and ``fs-cc worker`` calls :func:`run_worker`, which also runs celery beat (the schedule below)
unless given ``--no-beat`` (then run one ``celery -A web.worker:celery beat`` elsewhere).
"""

import logging

from celery import Celery, Task

logger = logging.getLogger(__name__)

TASK_MODULES = ("web.calls.tasks", "web.facts.tasks", "web.recordings.tasks",
                "web.callbacks.tasks", "web.messages.tasks", "web.crm.import_tasks",
                "web.exports.tasks", "web.crm.attachment_tasks")
# what the worker runs on a schedule (celery beat): task name -> seconds between runs
BEAT_SCHEDULE = {
    "purge-recordings": {"task": "fs_cc.purge_recordings", "schedule": 3600.0},
    "sweep-messages": {"task": "fs_cc.messages.sweep", "schedule": 60.0},  # web.messages.tasks
    "purge-exports": {"task": "fs_cc.exports.purge", "schedule": 600.0},  # web.exports.tasks
    "sweep-imports": {"task": "fs_cc.crm.import_sweep", "schedule": 600.0},  # web.crm.import_tasks
    # web.crm.attachment_tasks
    "purge-attachments": {"task": "fs_cc.crm.purge_attachments", "schedule": 3600.0},
}


def celery_init_app(app):
    """Build the Celery app for Flask ``app``: its config, its tasks, each run in its context."""

    class FlaskTask(Task):
        """A task that runs inside the Flask app's context (database session, config)."""

        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    from web.callbacks.tasks import beat_schedule as callback_schedule

    schedule = dict(BEAT_SCHEDULE, **callback_schedule(app.extensions["fs_cc_settings"]))
    celery_app.conf.beat_schedule = dict(schedule, **celery_app.conf.get("beat_schedule") or {})
    for module in TASK_MODULES:
        __import__(module)  # registers the module's shared tasks
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def create_celery_app(flask_app=None):
    """The Celery app of ``flask_app`` (a new Flask app from the settings when not given)."""
    if flask_app is None:
        from web import create_app

        flask_app = create_app()
    return celery_init_app(flask_app)


_celery = None


def __getattr__(name):
    # ``web.worker:celery`` is built on first access so importing this module reads no settings.
    global _celery
    if name == "celery":
        if _celery is None:
            _celery = create_celery_app()
        return _celery
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_worker(argv=None, flask_app=None):
    """Run a Celery worker in this process (``fs-cc worker``); ``argv`` are worker options.

    The worker embeds beat (``-B``, its schedule file in var/), so the scheduled tasks run with
    the embedded default; ``--no-beat`` leaves it out, for a deployment that runs one beat of
    its own beside several workers.
    """
    if flask_app is None:
        from web import create_app

        flask_app = create_app()
    celery_app = create_celery_app(flask_app)
    options = list(argv or [])
    beat = []
    if "--no-beat" in options:
        options.remove("--no-beat")
    else:
        var_dir = flask_app.extensions["fs_cc_settings"].var_dir
        beat = ["-B", f"--schedule={var_dir / 'celerybeat-schedule'}"]
    args = ["worker", "--loglevel=INFO", *beat, *options]
    logger.info("starting celery worker: %s", " ".join(args))
    celery_app.worker_main(args)

"""The Celery worker: a Celery app built from the Flask app, running tasks in its context.

``celery -A web.worker:celery worker`` works (the app is built on first access, not at import),
and ``fs-cc worker`` calls :func:`run_worker`.
"""

import logging

from celery import Celery, Task

logger = logging.getLogger(__name__)

TASK_MODULES = ("web.calls.tasks", "web.facts.tasks")


def celery_init_app(app):
    """Build the Celery app for Flask ``app``: its config, its tasks, each run in its context."""

    class FlaskTask(Task):
        """A task that runs inside the Flask app's context (database session, config)."""

        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
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
    """Run a Celery worker in this process (``fs-cc worker``); ``argv`` are worker options."""
    celery_app = create_celery_app(flask_app)
    args = ["worker", "--loglevel=INFO", *(argv or [])]
    logger.info("starting celery worker: %s", " ".join(args))
    celery_app.worker_main(args)

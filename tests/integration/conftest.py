import pytest

from tests.tasks.broker import broker_at

from .workers import BROKER_URL, VISIBILITY_TIMEOUT_S, Worker, broker, queues_idle, require_services, wait_for


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    """One real worker for the module, consuming both queues (restartable by a test)."""
    require_services()
    broker().flushdb()  # nothing left over from an earlier run
    env = {
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        # Short, so a message whose worker was killed is redelivered within seconds, not an hour.
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
        "RETRAIN_AFTER_N": "5",  # the broker-down test adds 5 rows
        "ARTIFACTS_DIR": str(tmp_path_factory.mktemp("artifacts")),
    }
    process = Worker(tmp_path_factory.mktemp("worker-logs"), env).start()
    yield process
    process.stop()


@pytest.fixture
def live(worker):
    """This process publishes to the worker's Redis; the test ends only when the worker is idle."""
    with broker_at(BROKER_URL):
        yield worker
    if worker.alive():
        wait_for(queues_idle, timeout=90, what="the worker to finish its queue", worker=worker)

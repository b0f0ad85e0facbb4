from services.notifications.app import spec
from shared.runtime import run_service

run_service(spec)

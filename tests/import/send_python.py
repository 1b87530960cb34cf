"""Sends every Segment message type for one user with a real Python library, then flushes.

    send_python.py segment|rudder HOST WRITE_KEY USER

Prints {"errors": [...]} (what the library reported through on_error). The libraries
retry on their own (collector/README.md, "Sending events from servers and apps"); this
script only waits for them.
"""

import json
import sys

errors: list[str] = []


def on_error(error: Exception, _batch: object) -> None:
    errors.append(repr(error))


def main() -> None:
    library, host, key, user = sys.argv[1:5]
    if library == "segment":
        from segment.analytics import Client
    else:
        from rudderstack.analytics import Client
    client = Client(write_key=key, host=host, on_error=on_error, max_retries=10, upload_interval=0.2)
    anon = f"{user}-anon"
    context = {"ip": "198.51.100.20", "traits": {"college": "IIT Bombay", "cohort": "2026"}}
    client.identify(user, {"college": "IIT Bombay", "cohort": "2026"}, context=context, anonymous_id=anon)
    client.track(user, "Course Enrolled", {"course_id": "c-9", "revenue": 120.5, "seats": 1}, context=context)
    client.page(user, "Courses", "Course", {"url": "https://campus.example/c/9"}, context=context)
    client.screen(user, "Courses", "Course Detail", {}, context=context)
    client.group(user, "iit-bombay", {"name": "IIT Bombay"}, context=context)
    client.alias(anon, user, context=context)
    client.flush()
    client.join()
    print(json.dumps({"errors": errors}))


if __name__ == "__main__":
    main()

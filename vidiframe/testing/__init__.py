"""Test helpers: a fake VidiCenter server and deterministic export data.

:class:`FakeVidiCenter` is the data export API as its documentation describes it
(SPEC section 7), on a loopback socket (``fake.url``) or in process
(``fake.transport()``); :class:`ManualClock` runs the export protocol in zero wall
time; :func:`generate_rows` and :func:`response_body` give the fake's data without
any HTTP, for benchmarks, dataset tests and notebooks.

Examples
--------
>>> from vidiframe.testing import FakeVidiCenter, ManualClock, ServerError
>>> with FakeVidiCenter(seed=0, clock=ManualClock(), serve=False) as fake:
...     rule = fake.inject(ServerError(503), times=1)
...     reply = fake.handle("GET", "/api/v1/whoami/", {}, fake.auth_headers())
...     reply.status, reply.json()
(200, {'username': 'demo'})
"""

from vidiframe.testing._clock import DEFAULT_START, Clock, ManualClock, system_clock
from vidiframe.testing._fake import (
    DATA_PATH,
    WHOAMI_PATH,
    FakeTransport,
    FakeVidiCenter,
    Limits,
    RecordedRequest,
    Reply,
    basic_auth_header,
)
from vidiframe.testing._faults import (
    Call,
    DropConnection,
    FailExport,
    Fault,
    FaultRule,
    RateLimited,
    ServerError,
    SlowBody,
    TruncatedBody,
)
from vidiframe.testing._generate import (
    DataGenerator,
    FakeQuery,
    QueryError,
    api_keys,
    count_rows,
    generate_rows,
    location_site,
    period_starts,
    response_body,
    site_locations,
)

__all__ = [
    "DATA_PATH",
    "DEFAULT_START",
    "WHOAMI_PATH",
    "Call",
    "Clock",
    "DataGenerator",
    "DropConnection",
    "FailExport",
    "FakeQuery",
    "FakeTransport",
    "FakeVidiCenter",
    "Fault",
    "FaultRule",
    "Limits",
    "ManualClock",
    "QueryError",
    "RateLimited",
    "RecordedRequest",
    "Reply",
    "ServerError",
    "SlowBody",
    "TruncatedBody",
    "api_keys",
    "basic_auth_header",
    "count_rows",
    "generate_rows",
    "location_site",
    "period_starts",
    "response_body",
    "site_locations",
    "system_clock",
]

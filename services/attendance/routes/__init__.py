"""Attendance's HTTP routes, one module per resource (scans, absences, the work calendar,
days and the portal's views, the device registry); deps.py holds what the imports share,
../web.py the roles and dates all routers use. The device protocol (/iclock) stays in
../adms_api.py. app.py includes the routers."""

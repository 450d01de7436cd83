from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("retrain/", views.retrain, name="retrain"),
    path("online.svg", views.online_plot, name="online-plot"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/<slug:name>.svg", views.report_plot, name="report-plot"),
]

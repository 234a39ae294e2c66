from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "cartable.surveys"
    label = "surveys"
    verbose_name = "Questionnaires"

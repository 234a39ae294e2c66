from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "cartable.evaluation"
    verbose_name = "Évaluation du dispositif"

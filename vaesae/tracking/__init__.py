"""MLflow tracking. These modules import MLflow only inside the code that runs when a config has an
``mlflow`` section, so a run without one never loads it."""

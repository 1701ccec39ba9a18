"""What the pages beyond the game get from the back-ends, one feed per page: ``upload`` (a
visitor's own photo), ``explore`` (batches of pool photos with the AI's answers) and
``model_card`` (the model's evaluation, its mistakes and confusions). Each does its service
calls on the dashboard's loop and hands web threads only what is ready or quick."""

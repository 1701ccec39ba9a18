#!/bin/bash
# As the official image's /usr/bin/tf_serving_entrypoint.sh.
tensorflow_model_server --port=8500 --rest_api_port=8501 \
    --model_name=${MODEL_NAME} --model_base_path=${MODEL_BASE_PATH}/${MODEL_NAME} "$@"

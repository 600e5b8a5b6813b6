# Builds the seed corpus of every fuzz target from files already in the repository.
# Called as: cmake -DSRC=<source root> -DOUT=<seed dir> -P make_seeds.cmake
# Large samples (profiles of a whole step) are cut to their first lines: libFuzzer mutates small
# inputs much faster, and the head of a file holds every format feature (header, first events).
set(MAX_SEED_BYTES 6144)

function(add_seeds target)
  file(MAKE_DIRECTORY "${OUT}/${target}")
  foreach(pattern IN LISTS ARGN)
    file(GLOB_RECURSE files "${SRC}/${pattern}")
    foreach(f IN LISTS files)
      file(SIZE "${f}" size)
      string(REPLACE "${SRC}" "" rel "${f}")
      string(MAKE_C_IDENTIFIER "${rel}" name)
      if(size GREATER MAX_SEED_BYTES AND NOT target STREQUAL "layer_template_fuzz")
        file(READ "${f}" head LIMIT ${MAX_SEED_BYTES})
        string(FIND "${head}" "\n" last_newline REVERSE)
        if(last_newline GREATER 0)
          string(SUBSTRING "${head}" 0 ${last_newline} head)
        endif()
        file(WRITE "${OUT}/${target}/${name}.head" "${head}\n")
      else()
        configure_file("${f}" "${OUT}/${target}/${name}" COPYONLY)
      endif()
    endforeach()
  endforeach()
endfunction()

add_seeds(prefetch_config_fuzz sample_profiles/configs/*.json fuzz/seeds/prefetch_config/*)
add_seeds(model_config_fuzz sample_profiles/models/*.json fuzz/seeds/model_config/*)
add_seeds(hardware_profile_fuzz sample_profiles/hardware/*.json)
add_seeds(calibration_fuzz fuzz/seeds/calibration/*)
add_seeds(layer_template_fuzz sample_profiles/layers/*.json fuzz/seeds/layer_template/*)
add_seeds(trace_json_fuzz tests/data/profiles/*.json tests/golden/*.trace.json fuzz/seeds/trace_json/*
          sample_profiles/profiles/qwen3-8b-tp4-t16-prefetch-on/*/trace_view.json
          sample_profiles/profiles/qwen3-8b-tp4-t16-msprof/*/msprof_*.json
          tests/data/profiles/old_torch_npu/*/trace_view.json)
add_seeds(kernel_csv_fuzz fuzz/seeds/kernel_csv/* tests/data/profiles/kernel_details*.csv tests/data/profiles/op_summary*.csv
          tests/golden/*.timeline.csv tests/data/profiles/old_torch_npu/*/kernel_details.csv
          sample_profiles/profiles/qwen3-8b-tp4-t16-prefetch-on/*/kernel_details.csv
          sample_profiles/profiles/qwen3-8b-tp4-t16-msprof/*/op_summary_*.csv)
add_seeds(task_time_csv_fuzz fuzz/seeds/task_time_csv/* tests/data/profiles/task_time*.csv tests/data/profiles/msprof_csv_only/*/task_time_*.csv
          sample_profiles/profiles/qwen3-8b-tp4-t16-msprof/*/task_time_*.csv)
add_seeds(workload_csv_fuzz fuzz/seeds/workload_csv/*)
add_seeds(op_times_csv_fuzz fuzz/seeds/op_times_csv/*)
add_seeds(csv_stream_fuzz fuzz/seeds/kernel_csv/* fuzz/seeds/task_time_csv/* tests/data/profiles/kernel_details*.csv
          tests/data/profiles/op_summary*.csv tests/data/profiles/task_time*.csv)
add_seeds(msprof_db_fuzz fuzz/seeds/msprof_db/*)
add_seeds(cluster_discovery_fuzz fuzz/seeds/cluster_discovery/*)

# A simdjson package of another version than the one salesflow supports; the
# configure step must refuse it before anything uses it.
set(simdjson_FOUND TRUE)

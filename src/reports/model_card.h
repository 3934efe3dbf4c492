// The Hugging Face model card's `co2_eq_emissions` metadata block (YAML), so a run's carbon
// goes straight into a model card: emissions in grams CO2eq, source, training_type,
// geographical_location, hardware_used
// (https://huggingface.co/docs/hub/model-cards-co2).
#pragma once

#include <string>

#include "accounting/accounting.h"
#include "metering/run_record.h"

namespace carbonclock {

/// The block, starting "co2_eq_emissions:". `emissions` is the headline operational emissions
/// (PUE applied), as CodeCarbon reports them; embodied emissions and the signal are named in
/// `source`. `training_type` ("pre-training", "fine-tuning") is written when given, else left
/// as a comment saying how to give it.
std::string report_model_card(const RunRecord& run, const CarbonAccount& account,
                              const std::string& training_type);

/// A YAML double-quoted scalar: quotes, backslashes and control characters escaped.
std::string yaml_quoted(const std::string& text);

}  // namespace carbonclock

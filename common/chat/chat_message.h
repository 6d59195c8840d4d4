// One message of an OpenAI-format chat record {"messages": [{"role": ..., "content": ...}]} as the
// template sees it: the training data's own chat turn (common/data/lm_rows.h reads and checks
// them), so that rows go to the template without a copy.
#pragma once

#include "common/data/lm_rows.h"

namespace ft::chat {

using ChatMessage = data::ChatTurn;

}  // namespace ft::chat

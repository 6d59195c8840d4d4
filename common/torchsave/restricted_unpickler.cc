#include "common/torchsave/restricted_unpickler.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "common/torchsave/torch_save_error.h"

namespace ft::torchsave {
namespace {

constexpr char kOrderedDict[] = "collections.OrderedDict";
constexpr char kRebuildTensor[] = "torch._utils._rebuild_tensor_v2";
constexpr char kRebuildParameter[] = "torch._utils._rebuild_parameter";

// torch.<Type>Storage -> dtype. Integer and boolean storages load (a BERT checkpoint holds an
// int64 position_ids buffer); only the float ones can become parameters.
const std::map<std::string, std::string>& StorageDtypes() {
  static const std::map<std::string, std::string> dtypes = {
      {"torch.FloatStorage", "F32"}, {"torch.HalfStorage", "F16"},
      {"torch.BFloat16Storage", "BF16"}, {"torch.DoubleStorage", "F64"},
      {"torch.LongStorage", "I64"},  {"torch.IntStorage", "I32"},
      {"torch.ShortStorage", "I16"}, {"torch.CharStorage", "I8"},
      {"torch.ByteStorage", "U8"},   {"torch.BoolStorage", "BOOL"}};
  return dtypes;
}

bool AllowedGlobal(const std::string& name) {
  return name == kOrderedDict || name == kRebuildTensor || name == kRebuildParameter ||
         StorageDtypes().count(name) > 0;
}

// A value the pickle builds. Values live in the interpreter's arena and refer to one another by
// pointer, so a pickle that puts a list into itself builds a cycle that is freed all the same.
struct Value {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal,
                    kStorage, kTensor };
  Kind kind = Kind::kNone;
  int64_t integer = 0;  // kInt, kBool
  std::string text;     // kString; kGlobal: "module.name"; kStorage: its key
  std::vector<Value*> items;  // kTuple, kList; kDict: key, value, key, value, ...
  PickledTensor tensor;       // kTensor; kStorage: dtype and storage_elements
};

const char* KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return "a bool";
    case Value::Kind::kInt: return "an int";
    case Value::Kind::kFloat: return "a float";
    case Value::Kind::kString: return "a string";
    case Value::Kind::kTuple: return "a tuple";
    case Value::Kind::kList: return "a list";
    case Value::Kind::kDict: return "a dict";
    case Value::Kind::kGlobal: return "a global";
    case Value::Kind::kStorage: return "a storage";
    case Value::Kind::kTensor: return "a tensor";
  }
  return "?";
}

// Names of opcodes a reader may meet in a malicious or unusual pickle, for the refusal.
std::string OpcodeName(unsigned char opcode) {
  static const std::map<unsigned char, const char*> names = {
      {'i', "INST"},     {'o', "OBJ"},        {0x81, "NEWOBJ"},   {0x92, "NEWOBJ_EX"},
      {'P', "PERSID"},   {'I', "INT"},        {'L', "LONG"},      {'S', "STRING"},
      {'V', "UNICODE"},  {'F', "FLOAT"},      {'g', "GET"},       {'p', "PUT"},
      {'2', "DUP"},      {'0', "POP"},        {'1', "POP_MARK"},  {0x82, "EXT1"},
      {0x83, "EXT2"},    {0x84, "EXT4"},      {0x8b, "LONG4"},    {0x8f, "EMPTY_SET"},
      {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"},
      {0x98, "READONLY_BUFFER"}};
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02x", opcode);
  const auto it = names.find(opcode);
  return std::string(hex) + (it == names.end() ? "" : std::string(" (") + it->second + ")");
}

class Interpreter {
 public:
  Interpreter(std::string_view pickle, std::string where)
      : pickle_(pickle), where_(std::move(where)) {}

  const Value* Run();

 private:
  [[noreturn]] void Fail(const std::string& message) const {
    throw TorchSaveError(where_ + ": " + message + " (at byte " + std::to_string(opcode_at_) +
                         ")");
  }
  std::string_view Take(uint64_t count);
  uint64_t Unsigned(int width);
  int64_t Signed(int width);
  std::string Line();

  Value* New(Value::Kind kind);
  void Push(Value* value) { stack_.push_back(value); }
  Value* Pop();
  Value* Top();
  std::vector<Value*> PopToMark();
  void Global(const std::string& module, const std::string& name);
  void PersistentId();
  void Reduce();
  void Build();
  void SetItems(const std::vector<Value*>& pairs);
  const Value* Expect(const Value* value, Value::Kind kind, const char* what) const;
  std::vector<int64_t> Integers(const Value* tuple, const char* what) const;

  std::string_view pickle_;
  std::string where_;
  uint64_t at_ = 0;
  uint64_t opcode_at_ = 0;
  std::vector<std::unique_ptr<Value>> arena_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
};

std::string_view Interpreter::Take(uint64_t count) {
  if (count > pickle_.size() - at_) Fail("the pickle ends in the middle of an opcode: truncated");
  const std::string_view bytes = pickle_.substr(at_, count);
  at_ += count;
  return bytes;
}

uint64_t Interpreter::Unsigned(int width) {
  const std::string_view bytes = Take(width);
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

int64_t Interpreter::Signed(int width) {
  const uint64_t bits = Unsigned(width);
  if (width == 8 || (bits >> (8 * width - 1)) == 0) return static_cast<int64_t>(bits);
  return static_cast<int64_t>(bits | (~uint64_t{0} << (8 * width)));  // sign-extend
}

std::string Interpreter::Line() {
  const std::size_t end = pickle_.find('\n', at_);
  if (end == std::string_view::npos) Fail("a GLOBAL's name has no end: truncated");
  std::string line(pickle_.substr(at_, end - at_));
  at_ = end + 1;
  return line;
}

Value* Interpreter::New(Value::Kind kind) {
  arena_.push_back(std::make_unique<Value>());
  arena_.back()->kind = kind;
  return arena_.back().get();
}

Value* Interpreter::Pop() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
    Fail("an opcode needs a value, but the stack is empty: malformed pickle");
  }
  Value* value = stack_.back();
  stack_.pop_back();
  return value;
}

Value* Interpreter::Top() {
  Value* value = Pop();
  Push(value);
  return value;
}

std::vector<Value*> Interpreter::PopToMark() {
  if (marks_.empty()) Fail("an opcode needs a MARK, but there is none: malformed pickle");
  std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()),
                            stack_.end());
  stack_.resize(marks_.back());
  marks_.pop_back();
  return items;
}

const Value* Interpreter::Expect(const Value* value, Value::Kind kind, const char* what) const {
  if (value->kind != kind) {
    Fail(std::string(what) + ": expected " + KindName(kind) + ", got " + KindName(value->kind));
  }
  return value;
}

std::vector<int64_t> Interpreter::Integers(const Value* tuple, const char* what) const {
  Expect(tuple, Value::Kind::kTuple, what);
  std::vector<int64_t> values;
  for (const Value* item : tuple->items) {
    values.push_back(Expect(item, Value::Kind::kInt, what)->integer);
  }
  return values;
}

void Interpreter::Global(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  if (!AllowedGlobal(full)) {
    Fail("global " + full + " is refused: a state dict needs only collections.OrderedDict, "
         "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.*Storage "
         "(this pickle would run other code; it is never run)");
  }
  Value* global = New(Value::Kind::kGlobal);
  global->text = full;
  Push(global);
}

void Interpreter::PersistentId() {
  const Value* id = Expect(Pop(), Value::Kind::kTuple, "a persistent id");
  const auto& parts = id->items;
  if (parts.size() != 5 || parts[0]->kind != Value::Kind::kString ||
      parts[0]->text != "storage") {
    Fail("a persistent id must be ('storage', torch.<Type>Storage, key, location, numel)");
  }
  const Value* type = Expect(parts[1], Value::Kind::kGlobal, "a storage's type");
  const auto dtype = StorageDtypes().find(type->text);
  if (dtype == StorageDtypes().end()) Fail(type->text + " is not a storage type");
  Value* storage = New(Value::Kind::kStorage);
  storage->text = Expect(parts[2], Value::Kind::kString, "a storage's key")->text;
  Expect(parts[3], Value::Kind::kString, "a storage's location");
  const int64_t elements = Expect(parts[4], Value::Kind::kInt, "a storage's size")->integer;
  if (elements < 0) Fail("storage '" + storage->text + "' has a negative size");
  storage->tensor.dtype = dtype->second;
  storage->tensor.storage_elements = static_cast<uint64_t>(elements);
  Push(storage);
}

void Interpreter::Reduce() {
  const Value* args = Expect(Pop(), Value::Kind::kTuple, "REDUCE's arguments");
  const Value* callable = Expect(Pop(), Value::Kind::kGlobal, "REDUCE's callable");
  const std::vector<Value*>& a = args->items;
  if (callable->text == kOrderedDict) {
    if (!a.empty()) Fail("collections.OrderedDict is only called with no arguments");
    Push(New(Value::Kind::kDict));
    return;
  }
  if (callable->text == kRebuildParameter) {
    if (a.size() != 3) Fail("_rebuild_parameter takes (tensor, requires_grad, hooks)");
    Push(const_cast<Value*>(Expect(a[0], Value::Kind::kTensor, "_rebuild_parameter's data")));
    return;
  }
  if (callable->text != kRebuildTensor) Fail(callable->text + " cannot be called");
  // A seventh argument, metadata, comes from newer PyTorch versions; it holds no tensor data.
  if (a.size() != 6 && a.size() != 7) {
    Fail("_rebuild_tensor_v2 takes (storage, offset, size, stride, requires_grad, hooks), got " +
         std::to_string(a.size()) + " arguments");
  }
  const Value* storage = Expect(a[0], Value::Kind::kStorage, "_rebuild_tensor_v2's storage");
  Value* tensor = New(Value::Kind::kTensor);
  tensor->tensor = storage->tensor;
  tensor->tensor.storage_key = storage->text;
  tensor->tensor.storage_offset = Expect(a[1], Value::Kind::kInt, "a tensor's offset")->integer;
  tensor->tensor.shape = Integers(a[2], "a tensor's size");
  tensor->tensor.strides = Integers(a[3], "a tensor's stride");
  if (tensor->tensor.shape.size() != tensor->tensor.strides.size()) {
    Fail("a tensor's size and stride have different lengths");
  }
  Push(tensor);
}

void Interpreter::Build() {
  const Value* state = Pop();
  const Value* target = Top();
  // An OrderedDict's instance attributes: state_dict() sets _metadata (versions per module).
  if (target->kind != Value::Kind::kDict ||
      (state->kind != Value::Kind::kDict && state->kind != Value::Kind::kNone)) {
    Fail(std::string("BUILD on ") + KindName(target->kind) + " with " + KindName(state->kind) +
         " is refused (only an OrderedDict's attributes are set)");
  }
}

void Interpreter::SetItems(const std::vector<Value*>& pairs) {
  if (pairs.size() % 2 != 0) Fail("SETITEMS with an odd number of values");
  Value* dict = Pop();
  if (dict->kind != Value::Kind::kDict) Fail(std::string("SETITEM on ") + KindName(dict->kind));
  dict->items.insert(dict->items.end(), pairs.begin(), pairs.end());
  Push(dict);
}

const Value* Interpreter::Run() {
  while (true) {
    opcode_at_ = at_;
    const auto opcode = static_cast<unsigned char>(Take(1)[0]);
    switch (opcode) {
      case 0x80: {  // PROTO
        const uint64_t protocol = Unsigned(1);
        if (protocol < 2 || protocol > 5) Fail("pickle protocol " + std::to_string(protocol));
        break;
      }
      case 0x95: Take(8); break;  // FRAME: a hint for buffered readers
      case '.': {                 // STOP
        const Value* result = Pop();
        if (!stack_.empty() || !marks_.empty()) Fail("values are left on the stack at STOP");
        if (at_ != pickle_.size()) Fail("bytes follow STOP");
        return result;
      }
      case '(': marks_.push_back(stack_.size()); break;
      case 'N': Push(New(Value::Kind::kNone)); break;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        Value* value = New(Value::Kind::kBool);
        value->integer = opcode == 0x88 ? 1 : 0;
        Push(value);
        break;
      }
      case 'J': case 'K': case 'M': case 0x8a: {  // BININT, BININT1, BININT2, LONG1
        Value* value = New(Value::Kind::kInt);
        if (opcode == 'J') value->integer = Signed(4);
        if (opcode == 'K') value->integer = static_cast<int64_t>(Unsigned(1));
        if (opcode == 'M') value->integer = static_cast<int64_t>(Unsigned(2));
        if (opcode == 0x8a) {
          const auto width = static_cast<int>(Unsigned(1));
          if (width > 8) Fail("an integer of " + std::to_string(width) + " bytes is too large");
          value->integer = width == 0 ? 0 : Signed(width);
        }
        Push(value);
        break;
      }
      case 'G': {  // BINFLOAT, big-endian; the value is never used
        Take(8);
        Push(New(Value::Kind::kFloat));
        break;
      }
      // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, BINSTRING, SHORT_BINSTRING, BINBYTES,
      // SHORT_BINBYTES: a length, then the bytes.
      case 'X': case 0x8c: case 0x8d: case 'T': case 'U': case 'B': case 'C': {
        const int width = (opcode == 0x8c || opcode == 'U' || opcode == 'C') ? 1
                          : opcode == 0x8d                                     ? 8
                                                                               : 4;
        Value* value = New(Value::Kind::kString);
        value->text = std::string(Take(Unsigned(width)));
        Push(value);
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        const std::string module = Line();
        Global(module, Line());
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const Value* name = Expect(Pop(), Value::Kind::kString, "STACK_GLOBAL's name");
        const Value* module = Expect(Pop(), Value::Kind::kString, "STACK_GLOBAL's module");
        Global(module->text, name->text);
        break;
      }
      case '}': Push(New(Value::Kind::kDict)); break;
      case ']': Push(New(Value::Kind::kList)); break;
      case ')': Push(New(Value::Kind::kTuple)); break;
      case 't': case 'l': case 'd': {  // TUPLE, LIST, DICT from the values since MARK
        std::vector<Value*> items = PopToMark();
        if (opcode == 'd' && items.size() % 2 != 0) Fail("DICT with an odd number of values");
        Value* value = New(opcode == 't'   ? Value::Kind::kTuple
                           : opcode == 'l' ? Value::Kind::kList
                                           : Value::Kind::kDict);
        value->items = std::move(items);
        Push(value);
        break;
      }
      case 0x85: case 0x86: case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
        Value* tuple = New(Value::Kind::kTuple);
        tuple->items.resize(opcode - 0x84);
        for (auto it = tuple->items.rbegin(); it != tuple->items.rend(); ++it) *it = Pop();
        Push(tuple);
        break;
      }
      case 'q': case 'r': case 0x94: {  // BINPUT, LONG_BINPUT, MEMOIZE
        const uint64_t index = opcode == 'q'   ? Unsigned(1)
                               : opcode == 'r' ? Unsigned(4)
                                               : memo_.size();
        memo_[index] = Top();
        break;
      }
      case 'h': case 'j': {  // BINGET, LONG_BINGET
        const uint64_t index = Unsigned(opcode == 'h' ? 1 : 4);
        const auto it = memo_.find(index);
        if (it == memo_.end()) Fail("memo entry " + std::to_string(index) + " was never stored");
        Push(it->second);
        break;
      }
      case 's': {  // SETITEM
        Value* value = Pop();
        Value* key = Pop();
        SetItems({key, value});
        break;
      }
      case 'u': SetItems(PopToMark()); break;
      case 'a': case 'e': {  // APPEND, APPENDS
        std::vector<Value*> items;
        if (opcode == 'a') items.push_back(Pop());
        if (opcode == 'e') items = PopToMark();
        Value* list = Top();
        if (list->kind != Value::Kind::kList) Fail(std::string("APPEND to ") +
                                                  KindName(list->kind));
        list->items.insert(list->items.end(), items.begin(), items.end());
        break;
      }
      case 'Q': PersistentId(); break;
      case 'R': Reduce(); break;
      case 'b': Build(); break;
      default:
        Fail("opcode " + OpcodeName(opcode) +
             " is refused: a state dict needs none (only data, OrderedDicts and tensors load)");
    }
  }
}

}  // namespace

std::size_t PickledDtypeSize(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes = {
      {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U8", 1},  {"BOOL", 1}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

std::vector<PickledTensor> UnpickleStateDict(std::string_view pickle, const std::string& where) {
  Interpreter interpreter(pickle, where);
  const Value* result = interpreter.Run();
  if (result->kind != Value::Kind::kDict) {
    throw TorchSaveError(where + ": holds " + KindName(result->kind) +
                         ", expected a state dict (a dict of name -> tensor)");
  }
  std::vector<PickledTensor> tensors;
  std::set<std::string> names;
  for (std::size_t i = 0; i + 1 < result->items.size(); i += 2) {
    const Value* key = result->items[i];
    const Value* value = result->items[i + 1];
    if (key->kind != Value::Kind::kString) {
      throw TorchSaveError(where + ": a key of the state dict is " + KindName(key->kind) +
                           ", expected a string");
    }
    if (value->kind != Value::Kind::kTensor) {
      throw TorchSaveError(where + ": '" + key->text + "' is " + KindName(value->kind) +
                           ", expected a tensor (a plain state dict, not a training checkpoint)");
    }
    if (!names.insert(key->text).second) {
      throw TorchSaveError(where + ": '" + key->text + "' appears twice");
    }
    tensors.push_back(value->tensor);
    tensors.back().name = key->text;
  }
  return tensors;
}

}  // namespace ft::torchsave

// One compile-heavy binding unit, compiled UNITS times with a different UNIT number (see
// CMakeLists.txt): the shape of a large extension whose many translation units each pull
// in pybind11, the STL containers it converts, and a few classes of their own.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <regex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

namespace py = pybind11;

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)

namespace {

using Value = std::variant<long, double, std::string, std::vector<long>>;

struct Record {
    std::string name;
    std::map<std::string, Value> fields;
    std::vector<std::tuple<long, double, std::string>> rows;

    std::size_t size() const { return fields.size() + rows.size(); }
    std::vector<std::string> matching(const std::string& pattern) const {
        std::regex re(pattern);
        std::vector<std::string> out;
        for (const auto& [key, value] : fields)
            if (std::regex_search(key, re)) out.push_back(key);
        return out;
    }
};

template <typename T>
std::unordered_map<std::string, T> histogram(const std::vector<std::string>& words, T step) {
    std::unordered_map<std::string, T> counts;
    for (const auto& w : words) counts[w] += step;
    return counts;
}

}  // namespace

void CAT(register_unit_, UNIT)(py::module_& m) {
    auto sub = m.def_submodule("unit_" STR(UNIT));
    py::class_<Record>(sub, "Record")
        .def(py::init<>())
        .def_readwrite("name", &Record::name)
        .def_readwrite("fields", &Record::fields)
        .def_readwrite("rows", &Record::rows)
        .def("size", &Record::size)
        .def("matching", &Record::matching);
    sub.def("histogram_int", &histogram<long>);
    sub.def("histogram_float", &histogram<double>);
    sub.def("apply", [](const std::function<double(double)>& f, std::vector<double> xs) {
        std::transform(xs.begin(), xs.end(), xs.begin(), f);
        return xs;
    });
    sub.def("unit", [] { return UNIT; });
}

// sim::parse_csv: RFC 4180 fields, with the position of each, and clear errors.
#include <doctest/doctest.h>

#include "sim/csv.hpp"
#include "sim/error.hpp"

TEST_CASE("csv: quoted fields hold commas, doubled quotes and line breaks; positions kept") {
  const auto rows = sim::parse_csv(
      "point,status, note\r\na,ok,\"x, y\"\n\nb,\"fail\"\"ed\",\"two\nlines\"\nc,,\n", "t.csv");
  REQUIRE(rows.size() == 4);  // the blank line is skipped
  CHECK(rows[0][2].text == "note");  // a bare field is trimmed, its column moved past the space
  CHECK(rows[0][2].column == 15);
  CHECK(rows[1][2].text == "x, y");
  CHECK(rows[1][2].line == 2);
  CHECK(rows[1][2].column == 6);
  CHECK(rows[2][1].text == "fail\"ed");
  CHECK(rows[2][2].text == "two\nlines");
  CHECK(rows[3][0].line == 6);  // after the field that spans two lines
  REQUIRE(rows[3].size() == 3);  // trailing empty fields are fields
  CHECK(rows[3][2].text.empty());
}

TEST_CASE("csv: an unclosed quote or text after a closing one is an error at its place") {
  try {
    sim::parse_csv("a,b\n1,\"open\n", "t.csv");
    FAIL("no error");
  } catch (const sim::InputError& e) {
    CHECK(std::string(e.what()).find("t.csv:2:3") != std::string::npos);
    CHECK(std::string(e.what()).find("not closed") != std::string::npos);
  }
  CHECK_THROWS_AS(sim::parse_csv("\"a\"b,c\n", "t.csv"), sim::InputError);
}

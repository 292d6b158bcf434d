"""Public registers: providers, qualifications, schools, places, occupations."""
